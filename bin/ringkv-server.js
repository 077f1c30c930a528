#!/usr/bin/env node
// The ringkv-server command: runs one node with redis-server-style arguments.
import '../dist/src/main.js';
