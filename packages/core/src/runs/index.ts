/** Run records (`hyperlab.run/v1`): creation, content hashing, validation and comparison. */
export * from './record.js';
export * from './compare.js';
