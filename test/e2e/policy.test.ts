import { pollUntil } from '../helpers/poll';
import { consumers, e2ee, hook, openRoom, receivesFrom, stats, videoEncodings, viewports, type Participant } from './browser';
import { browserSuite } from './suite';

/** The windows the viewer's page is shown in: its remote tile small (thumbnail), large, or scrolled away. */
const SMALL = { width: 640, height: 360 };
const LARGE = { width: 1920, height: 1080 };
const TINY = { width: 320, height: 260 };

// The bitrate and simulcast policy end to end: a publisher sending a 1280x720
// fake camera in three simulcast layers, a viewer whose window decides what it
// needs, and the server's policy in between. Once in the clear, and once
// end-to-end encrypted (docs/e2ee.md): the node picks layers, pauses and
// drops them from the clear VP8 prefix of frames it cannot read.
describe.each([
	['in the clear', undefined],
	['end-to-end encrypted', 'a-secret-for-the-policy-room'],
])('the layer policy with a real browser, %s', (_mode, secret) => {
	const suite = browserSuite({ media: { workers: 1 } }, { closePages: 'afterAll' });
	const { open, reported } = suite;
	let publisher: Participant;
	let viewer: Participant;

	beforeAll(async () => {
		publisher = await openRoom(suite.browser, suite.node.url, 'policy', 'Publisher', { size: { w: 1280, h: 720 }, e2ee: secret });
		open.push(publisher);
		viewer = await openRoom(suite.browser, suite.node.url, 'policy', 'Viewer', { size: { w: 320, h: 180 }, viewport: LARGE, e2ee: secret });
		open.push(viewer);
		await receivesFrom(viewer, [(await hook(publisher)).peerId], 30_000);
		expect((await e2ee(viewer)).enabled).toBe(secret !== undefined);
	}, 60_000);

	/** The viewer's consumer of the publisher's camera, in the page and on the node. */
	async function cameraConsumer() {
		const publisherId = (await hook(publisher)).peerId;
		const inPage = (await consumers(viewer)).find((c) => c.peerId === publisherId && c.kind === 'video' && c.source === 'camera')!;
		const peer = [...suite.node.registry.get('policy')!.peers.values()].find((p) => p.displayName === 'Viewer')!;
		return { inPage, onNode: peer.consumers.get(inPage.id)!, peer };
	}

	/** The viewer's inbound stats of that consumer. */
	async function inbound(kind: 'video' | 'audio' = 'video') {
		const publisherId = (await hook(publisher)).peerId;
		return (await stats(viewer)).find((s) => s.peerId === publisherId && s.kind === kind && s.source !== 'screen')!;
	}

	/** The publisher's outbound video encodings, lowest first (r0, r1, r2). */
	const encodings = () => videoEncodings(publisher);

	/** Why the publisher's encoder holds back, for the report: the machine's CPU is shared. */
	async function limitation(): Promise<string> {
		return (await encodings()).map((e) => `${e.rid}: ${e.frameWidth ?? '-'}px ${e.qualityLimitationReason ?? '?'}${e.active === false ? ' (inactive)' : ''}`).join(', ');
	}

	async function resize(size: { width: number; height: number }, expectHeight: (height: number) => boolean) {
		await viewer.page.setViewportSize(size);
		const { inPage } = await cameraConsumer();
		return pollUntil(`the viewer reports its tile at ${JSON.stringify(size)}`, async () =>
			(await viewports(viewer)).find((v) => v.consumerId === inPage.id && v.visible && expectHeight(v.height)), { timeoutMs: 5000 });
	}

	test('a small tile gets the lowest layer within 5 s, a large one the top layer', reported(async () => {
		const { thumbnailMaxHeight, mediumMaxHeight } = suite.node.config.policy;
		await resize(SMALL, (h) => h <= thumbnailMaxHeight);
		const low = await pollUntil('the viewer decodes the lowest layer', async () => {
			const [r0] = await encodings();
			const video = await inbound();
			return r0?.frameWidth !== undefined && video.frameWidth === r0.frameWidth && video.frameWidth;
		}, { timeoutMs: 5000, intervalMs: 200 });
		const top = (await encodings()).at(-1)!;
		expect(low).toBeLessThan(top.frameWidth ?? 1280);

		await resize(LARGE, (h) => h > mediumMaxHeight);
		const { onNode } = await cameraConsumer();
		// NOTE: a bound, not a figure: the top layer waits for the viewer's downlink estimate to climb back
		// from what one low layer needed (mediasoup probes only towards what the consumer prefers), slower
		// while CI loads both cores; 15 s was passed once in a few dozen CI runs.
		await pollUntil('the node prefers the top layer', () => onNode.preferredLayers?.spatialLayer === 2, { timeoutMs: 30_000 }).catch((error: Error) => {
			throw new Error(`${error.message}; preferred ${JSON.stringify(onNode.preferredLayers)}, current ${JSON.stringify(onNode.currentLayers)}`);
		});
		// NOTE: the top layer comes once the publisher sends it again and both
		// bandwidth estimates allow it: seconds, more on a busy machine.
		await pollUntil('the viewer decodes the top layer', async () => {
			const r2 = (await encodings()).at(-1);
			const video = await inbound();
			return r2?.frameWidth !== undefined && video.frameWidth === r2.frameWidth && r2.frameWidth > low;
		}, { timeoutMs: 40_000, intervalMs: 500 }).catch(async (error: Error) => {
			throw new Error(`${error.message}; publisher: ${await limitation()}`);
		});
	}), 90_000);

	test('with nobody needing the top layer the publisher stops sending it (dynacast), and sends it again when needed', reported(async () => {
		await resize(SMALL, (h) => h <= suite.node.config.policy.thumbnailMaxHeight);
		const bytesOf = async (rid: string) => (await encodings()).find((e) => e.rid === rid)?.bytesSent ?? 0;
		await pollUntil('r1 and r2 inactive at the publisher', async () => {
			const [r0, r1, r2] = await encodings();
			return r0?.active !== false && r1?.active === false && r2?.active === false;
		}, { timeoutMs: 10_000, intervalMs: 250 });
		const stopped = await bytesOf('r2');
		await new Promise((resolve) => setTimeout(resolve, 2000));
		expect(await bytesOf('r2')).toBe(stopped);

		await resize(LARGE, (h) => h > suite.node.config.policy.mediumMaxHeight);
		await pollUntil('r2 active again', async () => (await encodings()).at(-1)?.active === true, { timeoutMs: 10_000, intervalMs: 250 });
		const restarted = await bytesOf('r2');
		// NOTE: the encoder may hold the top layer back when the machine's CPU is
		// busy (qualityLimitationReason "cpu"); it is printed, not failed on.
		const grew = await pollUntil('r2 bytes grow again', async () => (await bytesOf('r2')) > restarted + 10_000, { timeoutMs: 30_000, intervalMs: 500 })
			.then(() => true, () => false);
		if (!grew) {
			const why = await limitation();
			process.stderr.write(`r2 active but not growing within 30 s; publisher: ${why}\n`);
			expect(why).toMatch(/r2: \S+ (cpu|bandwidth)/);
		}
	}), 90_000);

	test('a tile scrolled out of view has its consumer paused: no inbound bytes; scrolled back, it resumes', reported(async () => {
		// A window so small the grid scrolls: the viewer's own tile first, the publisher's below, out of view.
		await viewer.page.setViewportSize(TINY);
		const { inPage, onNode } = await cameraConsumer();
		await pollUntil('the tile reported hidden', async () => (await viewports(viewer)).find((v) => v.consumerId === inPage.id && !v.visible), { timeoutMs: 5000 });
		await pollUntil('the consumer paused on the node', () => onNode.paused, { timeoutMs: 5000 });
		const before = (await inbound()).bytesReceived;
		await new Promise((resolve) => setTimeout(resolve, 2000));
		expect((await inbound()).bytesReceived).toBe(before);

		await viewer.page.locator(`video[data-consumer-id="${inPage.id}"]`).scrollIntoViewIfNeeded();
		await pollUntil('the consumer resumed', () => !onNode.paused, { timeoutMs: 5000 });
		await pollUntil('bytes flow again', async () => (await inbound()).bytesReceived > before, { timeoutMs: 10_000, intervalMs: 250 });
	}), 60_000);

	test('a downlink capped low on the server: audio keeps flowing while video steps down', reported(async () => {
		await resize(LARGE, (h) => h > suite.node.config.policy.mediumMaxHeight);
		const { onNode, peer } = await cameraConsumer();
		// NOTE: after the last test's tiny window the large tile's report, the policy's tick and dynacast
		// waking the top layer come one after the other: on a loaded machine that took over 5 s (CI, once).
		await pollUntil('the top layer preferred', () => onNode.preferredLayers?.spatialLayer === 2, { timeoutMs: 15_000 });
		// 300 kbit/s: audio and the lowest layer fit, nothing above.
		await peer.capDownlink(300_000);
		await pollUntil('the node forwards the lowest layer', () => onNode.preferredLayers?.spatialLayer === 0 && onNode.currentLayers?.spatialLayer === 0, { timeoutMs: 10_000 });
		const [r0] = await encodings();
		await pollUntil('the viewer decodes the lowest layer', async () => (await inbound()).frameWidth === r0?.frameWidth, { timeoutMs: 10_000, intervalMs: 250 });
		const audio = (await inbound('audio')).bytesReceived;
		await pollUntil('audio keeps flowing', async () => (await inbound('audio')).bytesReceived > audio + 5000, { timeoutMs: 5000, intervalMs: 250 });
		await peer.capDownlink(suite.node.config.policy.maxDownlinkBitrate);
	}), 60_000);
});
