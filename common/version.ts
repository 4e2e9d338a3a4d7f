// The product's name and version, as the programs, the API and outgoing requests show them.

export const PRODUCT = 'hostwatch';

/**
 * The version a build was given (`HOSTWATCH_VERSION=0.2.0 npm run build`: the build scripts put it
 * in the bundle), else the source's own.
 */
const built = process.env.HOSTWATCH_VERSION;
export const VERSION = built && /^[A-Za-z0-9._+-]{1,64}$/.test(built) ? built : '0.1.0';
