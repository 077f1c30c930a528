/** The ring's token hash (murmur3, see util/murmur3.ts). */
export { murmur3 } from '../util/murmur3.js';
