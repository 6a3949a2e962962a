/** The arena's pure rules. Imported by the server, the browser client and the bots. */
export * from './constants.ts';
export * from './map.ts';
export * from './movement.ts';
export * from './state.ts';
export * from './step.ts';
export * from './hitscan.ts';
export * from './rng.ts';
