// Types for the browser test runner's helpers, used by test/parity.test.ts.
import type { BrowserContext } from 'playwright-core';
import type { Server } from 'node:http';
export const CHROMIUM_ARGS: string[];
export function serveRepo(extra?: Record<string, string>, port?: number): Promise<{ server: Server; origin: string }>;
export function launchChromium(): Promise<{ context: BrowserContext; close: () => Promise<void> }>;
export function runBrowserTests(only?: string[]): Promise<{ passed: number; failed: number; files?: number }>;
