#!/usr/bin/env node
// The CLI is compiled by `npm run build` into dist/ and bundled into dist/bundle/ (cli/rolldown.config.mjs:
// one file per command instead of ~1,450 modules to find and compile at start); this shim keeps the bin path stable.
import { main } from '../dist/bundle/classbox.js';

process.exitCode = await main(process.argv.slice(2));
