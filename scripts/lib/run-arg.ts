// The flags of the small helper programs the benchmarks start (`--name value`): one value, a
// fallback, or a one-line error and exit code 2 naming the program.

export function runArg(program: string, name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) {
    process.stderr.write(`${program}: --${name} is required\n`);
    process.exit(2);
  }
  return v;
}
