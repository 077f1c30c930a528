/**
 * V8 flags a RingKV node runs with. They must be on node's command line (V8 sizes its heap
 * when the process starts; setting them later has no effect, and NODE_OPTIONS refuses
 * them), so every launcher passes them: `npm start`, docker/Dockerfile, scripts/cluster.js
 * and the test and bench helpers. A unit test checks package.json and the Dockerfile.
 *
 * --initial-old-space-size=64: the node's JavaScript heap stays small (about 10 MB live:
 * the data lives in LMDB and in typed-array rings outside it), and with a limit computed
 * from so small a heap V8 kept its old generation's slack below the young generation's
 * size and started a mark-compact about every half second, each pausing the node 3-5 ms.
 * With a 64 MB floor none ran in 200k SETs, and SET -P 1 p99 fell in each of 4 alternating
 * pairs (5.4/5.2/5.3/4.4 -> 4.5/4.4/3.6/3.2 ms; bench/RESULTS.md).
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];
