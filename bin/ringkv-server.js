#!/usr/bin/env -S node --initial-old-space-size=64
// The ringkv-server command: runs one node with redis-server-style arguments.
import '../dist/src/main.js';
