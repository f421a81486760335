import { pollUntil } from '../helpers/poll';
import { hook, openRoom, type Participant } from './browser';
import { browserSuite } from './suite';

// The room's chat between real pages (docs/web-client.md): messages reach the others, with unread counts
// while their chat is closed, as text; a flood gets rate_limited and the page says so.
describe('chat between browsers', () => {
	const suite = browserSuite({ media: { workers: 1 }, signaling: { chatMessagesPerMinute: 4 } });
	const { open, reported } = suite;

	async function join(room: string, name: string): Promise<Participant> {
		const p = await openRoom(suite.browser, suite.node.url, room, name, { size: { w: 160, h: 120 } });
		open.push(p);
		return p;
	}
	const label = (p: Participant) => p.page.textContent('#chat-toggle .label');
	const lines = (p: Participant) => p.page.locator('#chat-log li').allTextContents();
	async function send(p: Participant, text: string): Promise<void> {
		await p.page.fill('#chat-input', text);
		await p.page.press('#chat-input', 'Enter');
	}

	test('chat between three pages: unread counts, text never markup, a flood refused with a clear message', reported(async () => {
		const [ada, bob, cy] = [await join('chatting', 'Ada'), await join('chatting', 'Bob'), await join('chatting', 'Cy')];
		await ada.page.click('#chat-toggle');
		await send(ada, 'hello <b>all</b>');
		await pollUntil('Ada sees her message', async () => (await lines(ada)).includes('You hello <b>all</b>'));
		for (const other of [bob, cy]) {
			await pollUntil(`${other.name} has one unread`, async () => (await label(other)) === 'Chat · 1', { timeoutMs: 10_000 });
		}
		await bob.page.click('#chat-toggle');
		expect(await lines(bob)).toEqual(['Ada hello <b>all</b>']);
		expect(await bob.page.locator('#chat-log li b').count()).toBe(1);
		expect(await label(bob)).toBe('Chat');
		await send(bob, 'hi Ada');
		await pollUntil('Ada has Bob\'s reply', async () => (await lines(ada)).includes('Bob hi Ada'), { timeoutMs: 10_000 });
		await pollUntil('Cy has two unread', async () => (await label(cy)) === 'Chat · 2', { timeoutMs: 10_000 });

		// A flood: four a minute, so Ada's fifth is refused and the page says why.
		for (let i = 2; i <= 5; i++) {
			await send(ada, `message ${i}`);
			await pollUntil(`message ${i} answered`, async () => (await lines(ada)).includes(`You message ${i}`) || !(await ada.page.locator('#chat-problem').isHidden()));
		}
		expect(await ada.page.textContent('#chat-problem')).toBe('You are sending messages too fast: wait a moment, then send it again.');
		expect(await ada.page.inputValue('#chat-input')).toBe('message 5');
		await pollUntil('Bob has Ada\'s messages 2-4', async () => (await lines(bob)).filter((l) => l.startsWith('Ada message')).length === 3, { timeoutMs: 10_000 });
	}), 90_000);

	test('a raised hand is seen by the others, and by one who joins later; lowered, it goes', reported(async () => {
		const [ada, bob] = [await join('hands-up', 'Ada'), await join('hands-up', 'Bob')];
		const bobId = (await hook(bob)).peerId;
		const handUp = (p: Participant) => p.page.locator(`.tile.hand-raised[data-peer-id="${bobId}"]`).count();
		await bob.page.click('#hand');
		await pollUntil('Bob\'s button says Lower', async () => (await bob.page.textContent('#hand .label')) === 'Lower');
		await pollUntil('Ada sees Bob\'s hand', async () => (await handUp(ada)) === 1, { timeoutMs: 10_000 });
		expect(await handUp(bob)).toBe(1);
		const cy = await join('hands-up', 'Cy');
		await pollUntil('Cy, joining later, sees it', async () => (await handUp(cy)) === 1, { timeoutMs: 10_000 });
		await bob.page.click('#hand');
		for (const p of [ada, bob, cy]) {
			await pollUntil(`${p.name} sees it lowered`, async () => (await handUp(p)) === 0, { timeoutMs: 10_000 });
		}
	}), 90_000);
});
