import { MediaClient } from '../helpers/mediaClient';
import { startTestNode, type TestNode } from '../helpers/node';
import { metricValue } from '../helpers/metrics';
import { pollUntil } from '../helpers/poll';
import { SignalingClient } from '../helpers/signalingClient';

describe('metrics agree with reality', () => {
	let node: TestNode;
	const parties: { signaling: SignalingClient; media: MediaClient }[] = [];
	const scrape = async () => (await fetch(`${node.url}/metrics`)).text();

	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 2, usageIntervalMs: 200 }, metrics: { statsIntervalMs: 60_000 } });
	});
	afterAll(async () => {
		for (const { signaling, media } of parties.splice(0)) {
			await media.close();
			signaling.disconnect();
		}
		await node.close();
	});

	test('a quiet node shows zeros for its labelled counters', async () => {
		const text = await scrape();
		expect(metricValue(text, 'switchyard_signaling_requests_total{method="room.join"}')).toBe(0);
		expect(metricValue(text, 'switchyard_signaling_errors_total{method="room.join",code="validation_failed"}')).toBe(0);
		expect(metricValue(text, 'switchyard_call_outcomes_total{outcome="unavailable"}')).toBe(0);
		expect(metricValue(text, 'switchyard_rtp_bytes_total{direction="out"}')).toBe(0);
		expect(metricValue(text, 'switchyard_consumers{kind="video"}')).toBe(0);
	});

	test('3 peers with audio and video: 12 consumers, peers, requests, join duration, and RTP bytes that grow', async () => {
		for (const name of ['ann', 'ben', 'cat']) {
			const signaling = await SignalingClient.connect(node.url, { token: await node.tokens.issue({ sub: name, name, rooms: ['*'] }) });
			const media = await MediaClient.create(signaling);
			parties.push({ signaling, media });
			await media.join('metrics');
			await media.produceSynthetic({ audio: true, video: { width: 320, height: 180 } });
		}
		await pollUntil('12 consumers', async () => {
			const text = await scrape();
			return metricValue(text, 'switchyard_consumers{kind="audio"}') === 6 && metricValue(text, 'switchyard_consumers{kind="video"}') === 6;
		}, { timeoutMs: 10000 });
		let text = await scrape();
		expect(metricValue(text, 'switchyard_producers{kind="video"}')).toBe(3);
		expect(metricValue(text, 'switchyard_peers')).toBe(3);
		expect(metricValue(text, 'switchyard_rooms')).toBe(1);
		expect(metricValue(text, 'switchyard_signaling_requests_total{method="room.join"}')).toBe(3);
		expect(metricValue(text, 'switchyard_room_size_count')).toBe(3);
		await pollUntil('join durations observed', async () => metricValue(await scrape(), 'switchyard_join_duration_seconds_count') === 3);

		await node.metrics.sampleNow();
		const first = metricValue(await scrape(), 'switchyard_rtp_bytes_total{direction="out"}')!;
		await pollUntil('bytes grow while media flows', async () => {
			await node.metrics.sampleNow();
			return metricValue(await scrape(), 'switchyard_rtp_bytes_total{direction="out"}')! > first;
		}, { timeoutMs: 10000, intervalMs: 300 });
		text = await scrape();
		expect(metricValue(text, 'switchyard_rtp_bytes_total{direction="in"}')).toBeGreaterThan(0);
		expect(metricValue(text, 'switchyard_rtp_packets_total{direction="out"}')).toBeGreaterThan(0);
		expect(metricValue(text, 'switchyard_consumer_score_count')).toBeGreaterThan(0);
		expect(metricValue(text, 'switchyard_worker_memory_bytes{worker="0"}')).toBeGreaterThan(1e6);
		expect(metricValue(text, 'switchyard_worker_cpu_seconds_total{worker="0"}')).toBeGreaterThan(0);
		// Capacity: an estimate exists once consumers were seen with CPU.
		await pollUntil('a capacity estimate', async () => {
			await node.metrics.sampleNow();
			return metricValue(await scrape(), 'switchyard_capacity_consumers') !== undefined;
		}, { timeoutMs: 10000, intervalMs: 300 });
	});

	test('a killed worker shows in deaths and restarts; errors count by method and code', async () => {
		const victim = node.pool.workers[1]!;
		process.kill(victim.pid, 'SIGKILL');
		await pollUntil('restart counted', async () => metricValue(await scrape(), 'switchyard_worker_restarts_total') === 1, { timeoutMs: 3000 });
		expect(metricValue(await scrape(), 'switchyard_worker_deaths_total')).toBe(1);

		const { signaling } = parties[0]!;
		await signaling.requestRaw('room.join', { roomId: 42 });
		await signaling.requestRaw('no.such.request', {});
		const text = await scrape();
		expect(metricValue(text, 'switchyard_signaling_errors_total{method="room.join",code="validation_failed"}')).toBe(1);
		expect(metricValue(text, 'switchyard_signaling_requests_total{method="unknown"}')).toBe(1);
		expect(metricValue(text, 'switchyard_signaling_errors_total{method="unknown",code="not_found"}')).toBe(1);
	});
});

describe('/metrics with metrics.token', () => {
	test('needs the bearer token', async () => {
		const node = await startTestNode({ media: { workers: 1 }, metrics: { token: 'metrics-token-0123456789' } });
		try {
			expect((await fetch(`${node.url}/metrics`)).status).toBe(401);
			expect((await fetch(`${node.url}/metrics`, { headers: { Authorization: 'Bearer wrong-token-000000000' } })).status).toBe(401);
			expect((await fetch(`${node.url}/metrics`, { headers: { Authorization: 'Bearer metrics-token-0123456789' } })).status).toBe(200);
		} finally {
			await node.close();
		}
	});
});
