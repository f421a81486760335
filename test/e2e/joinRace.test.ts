import { pollUntil } from '../helpers/poll';
import { hook, newParticipant, openRoom, receivesFrom } from './browser';
import { browserSuite } from './suite';

// A peer that joins while this page's room.join answer is still on its way: the server lists the
// peers as they were when this page joined, so the newcomer comes as a peer.joined that arrives
// before the answer. The page must tell it after the answer's roster, not let the roster wipe it
// (which lost the newcomer's name here, and in a call between accounts its sender keys: no frame
// decoded, the safety codes differing).
describe('joins that cross', () => {
	const suite = browserSuite({ media: { workers: 1 } });
	const { open, reported } = suite;

	test('a peer who joins while the room.join answer is on its way is known by name, and both decode each other', reported(async () => {
		const ada = await newParticipant(suite.browser, 'Ada');
		open.push(ada);
		let holdAnswer!: () => void;
		const answerHeld = new Promise<void>((resolve) => {
			holdAnswer = resolve;
		});
		await ada.page.routeWebSocket(/\/socket\.io\//, (ws) => {
			const server = ws.connectToServer();
			ws.onMessage((message) => server.send(message));
			let held: string | undefined;
			let answered = false;
			server.onMessage((message) => {
				const text = String(message);
				// The socket.io ack (packet type 43) of room.join: hold it until a peer.joined has gone by.
				if (!answered && text.startsWith('43') && text.includes('"resumeToken"')) {
					answered = true;
					held = text;
					holdAnswer();
					return;
				}
				ws.send(message);
				if (held !== undefined && text.includes('"peer.joined"')) {
					ws.send(held);
					held = undefined;
				}
			});
		});
		await ada.page.goto(`${suite.node.url}/room/crossing?name=Ada&w=160&h=120`);
		await answerHeld;
		const bob = await openRoom(suite.browser, suite.node.url, 'crossing', 'Bob', { size: { w: 160, h: 120 } });
		open.push(bob);
		await pollUntil('Ada is connected', async () => (await hook(ada).catch(() => undefined))?.state === 'connected', { timeoutMs: 30_000, intervalMs: 250 });
		const [adaId, bobId] = [(await hook(ada)).peerId, (await hook(bob)).peerId];
		const events = (await hook(ada)).events;
		expect(events.map((e) => [e.name, e.peerId])).toEqual([['peer.joined', bobId]]);
		await pollUntil('Ada\'s tile of Bob has his name', async () =>
			(await ada.page.textContent(`.tile[data-peer-id="${bobId}"] .name`).catch(() => null)) === 'Bob', { timeoutMs: 10_000 });
		await Promise.all([receivesFrom(ada, [bobId]), receivesFrom(bob, [adaId])]);
	}), 90_000);
});
