// The product's name and version, as the programs, the API and outgoing requests show them.

export const PRODUCT = 'hostwatch';
export const VERSION = '0.1.0';
