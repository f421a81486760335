import type { Browser } from 'playwright-core';
import { startTestNode, type TestNode } from '../helpers/node';
import { launchBrowser, reportOnFailure, type Participant } from './browser';

export type BrowserSuite = {
	/** The suite's node and browser (from its beforeAll on). */
	readonly node: TestNode;
	readonly browser: Browser;
	/** The pages the tests open, closed after each test or after the last (`closePages`). */
	readonly open: Participant[];
	/** A test body that prints every open page's console and media stats when it fails. */
	reported(body: () => Promise<void>): () => Promise<void>;
};

/**
 * A describe block's node and headless chromium, started before its tests and
 * closed after them, with the pages its tests open. Call it in the describe
 * body: it adds the jest hooks. `publicDir`: a build of the web client for the
 * node to serve (startTestNode).
 */
export function browserSuite(
	overrides: Parameters<typeof startTestNode>[0],
	{ closePages = 'afterEach', cameras, publicDir }: { closePages?: 'afterEach' | 'afterAll'; cameras?: number; publicDir?: string } = {},
): BrowserSuite {
	let node: TestNode | undefined;
	let browser: Browser | undefined;
	const open: Participant[] = [];
	const closeOpen = async () => {
		for (const p of open.splice(0)) {
			await p.context.close();
		}
	};
	beforeAll(async () => {
		node = await startTestNode(overrides, { publicDir });
		browser = await launchBrowser({ cameras });
	});
	if (closePages === 'afterEach') {
		afterEach(closeOpen);
	}
	afterAll(async () => {
		await closeOpen();
		await browser?.close();
		await node?.close();
	});
	const started = <T>(value: T | undefined): T => {
		if (value === undefined) {
			throw new Error('the browser suite has not started (use it in tests and hooks)');
		}
		return value;
	};
	return {
		get node() {
			return started(node);
		},
		get browser() {
			return started(browser);
		},
		open,
		reported: (body) => reportOnFailure(open, body),
	};
}
