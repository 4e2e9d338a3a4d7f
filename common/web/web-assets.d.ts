// The virtual module made by scripts/lib/web-assets.mjs: file name -> contents.
declare module 'hostwatch:web-assets' {
  const files: Record<string, string>;
  export default files;
}
