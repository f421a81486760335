import { pollUntil } from '../helpers/poll';
import { openRoom, type Participant } from './browser';
import { browserSuite } from './suite';

// The chat of an end-to-end encrypted room (docs/e2ee.md, "Chat"): pages with
// the link's secret chat both ways; a page with another secret sees that it
// could not decrypt; what crosses the node is sealed, never the text.
describe('end-to-end encrypted chat between browsers', () => {
	const suite = browserSuite({ media: { workers: 1 } });
	const { open, reported } = suite;
	/** Every socket.io frame each page sent or received. */
	const frames = new Map<string, string[]>();

	async function join(name: string, secret: string): Promise<Participant> {
		const seen: string[] = [];
		frames.set(name, seen);
		const p = await openRoom(suite.browser, suite.node.url, 'sealed-chat', name, {
			size: { w: 160, h: 120 }, e2ee: secret,
			beforeOpen: (page) => page.on('websocket', (ws) => {
				ws.on('framesent', ({ payload }) => seen.push(String(payload)));
				ws.on('framereceived', ({ payload }) => seen.push(String(payload)));
			}),
		});
		open.push(p);
		return p;
	}
	const lines = (p: Participant) => p.page.locator('#chat-log li').allTextContents();
	async function send(p: Participant, text: string): Promise<void> {
		await p.page.fill('#chat-input', text);
		await p.page.press('#chat-input', 'Enter');
	}

	test('same secret: both ways; another secret: "could not decrypt"; the node relays only sealed text', reported(async () => {
		const ada = await join('Ada', 'the-shared-secret-of-this-chat');
		const bob = await join('Bob', 'the-shared-secret-of-this-chat');
		const eve = await join('Eve', 'another-secret-altogether-here');
		for (const p of [ada, bob, eve]) {
			await p.page.click('#chat-toggle');
		}
		await send(ada, 'meet at the blue door');
		await pollUntil('Ada sees her message', async () => (await lines(ada)).includes('You meet at the blue door'));
		await pollUntil('Bob reads it', async () => (await lines(bob)).includes('Ada meet at the blue door'), { timeoutMs: 10_000 });
		await send(bob, 'noted, see you there');
		await pollUntil('Ada reads Bob\'s', async () => (await lines(ada)).includes('Bob noted, see you there'), { timeoutMs: 10_000 });

		await pollUntil('Eve got both, unreadable', async () => (await eve.page.locator('#chat-log li[data-undecryptable]').count()) === 2, { timeoutMs: 10_000 });
		const eveLines = (await lines(eve)).join('\n');
		expect(eveLines).toContain('Could not decrypt this message');
		expect(eveLines).not.toMatch(/blue door|see you there/);

		// What went over the WebSocket: chat.send and chat.message carry `sealed`, never `text` or the words.
		const all = [...frames.values()].flat();
		const chat = all.filter((f) => f.includes('"chat.send"') || f.includes('"chat.message"'));
		expect(chat.length).toBeGreaterThanOrEqual(2 + 2 * 2);
		for (const frame of chat) {
			expect(frame).toContain('"sealed"');
			expect(frame).not.toContain('"text"');
		}
		expect(all.some((f) => /blue door|see you there/.test(f))).toBe(false);
	}), 90_000);
});
