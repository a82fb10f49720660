#!/usr/bin/env node
// The CLI is compiled by `npm run build` into dist/; this shim keeps the bin path stable.
import { main } from '../dist/cli/classbox.js';

process.exitCode = await main(process.argv.slice(2));
