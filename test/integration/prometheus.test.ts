import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import client from 'prom-client';
import { MEDIA_CODECS } from '../../src/media';
import { PipeSampler } from '../../src/metrics';
import type { NodePipeInfo } from '../../src/rooms';
import { api, callDevice, device, signup } from '../helpers/accounts';
import { MediaClient } from '../helpers/mediaClient';
import { startTestNode, type TestNode } from '../helpers/node';
import { pollUntil } from '../helpers/poll';
import { findFreePorts } from '../helpers/ports';
import { SignalingClient } from '../helpers/signalingClient';
import { dashboards } from '../helpers/dashboards';
import { WebhookReceiver } from '../helpers/webhookReceiver';
import { FakeClock } from '../helpers/fakeClock';
import { pipeProducer } from '../helpers/pipes';
import { freshRedisPrefix, testRedis } from '../helpers/redis';

const PROMETHEUS = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';

// Grafana's template variables, as Grafana would substitute them.
function substitute(expr: string): string {
	return expr
		.replaceAll('$__rate_interval', '10s')
		.replaceAll('$__interval', '2s')
		.replaceAll('$instance', '.*');
}

describe('every dashboard query against a real Prometheus scraping a node with calls', () => {
	let node: TestNode;
	let prometheus: ChildProcess | undefined;
	let promUrl = '';
	let promLog = '';
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-prometheus-'));
	const closers: (() => Promise<void> | void)[] = [];

	beforeAll(async () => {
		if (!fs.existsSync(PROMETHEUS)) {
			throw new Error(`${PROMETHEUS} is missing: apt-get install prometheus (.ci/run does)`);
		}
		// NOTE: the calls' clock: the missed call below times out when told, not after a real wait.
		const clock = new FakeClock();
		// A webhook receiver, for the webhook panel: the call's events go to it.
		const receiver = await WebhookReceiver.start();
		closers.push(() => receiver.stop());
		node = await startTestNode({
			webhooks: { urls: [receiver.url], secret: 'prometheus-test-webhook-secret-0123456789' },
			media: { workers: 1, usageIntervalMs: 500 },
			metrics: { statsIntervalMs: 1000 },
			calls: { ringTimeoutSeconds: 1 },
			// A node of a cluster, for the cluster panel: the fleet is this node.
			auth: { secret: 'prometheus-test-secret-0123456789abcdef' },
			cluster: { redisUrl: testRedis().url, keyPrefix: freshRedisPrefix(), heartbeatMs: 500 },
		}, { clock });

		// A call with media...
		const caller = await signup(node, 'prom_caller');
		const callee = await signup(node, 'prom_callee');
		await api(node, callee.token, 'PUT', `/api/me/contacts/${caller.handle}`);
		const clients: SignalingClient[] = [];
		closers.push(() => clients.forEach((c) => c.disconnect()));
		const callerDevice = await callDevice(node, caller, clients);
		const calleeDevice = await callDevice(node, callee, clients);
		const { callId } = await callerDevice.request('call.invite', { to: [callee.handle], media: 'video', deviceId: callerDevice.deviceId });
		await calleeDevice.waitFor('call.incoming');
		const accepted = await calleeDevice.request('call.accept', { callId, deviceId: calleeDevice.deviceId });
		const { token: callerToken } = await callerDevice.waitFor('call.accepted');
		for (const token of [callerToken, accepted.token]) {
			const signaling = await SignalingClient.connect(node.url, { token });
			const media = await MediaClient.create(signaling);
			closers.push(async () => {
				await media.close();
				signaling.disconnect();
			});
			await media.join(accepted.roomId, undefined, { e2ee: true });
			await media.produceSynthetic({ audio: true, video: { width: 320, height: 180 } });
		}
		// ...and a few ringing, declined and missed ones.
		const others = await Promise.all(['prom_a', 'prom_b', 'prom_c'].map((h) => signup(node, h)));
		for (const other of others) {
			await api(node, other.token, 'PUT', `/api/me/contacts/${caller.handle}`);
		}
		const otherDevices = await Promise.all(others.map((o) => device(node, o, clients)));
		const declined = await callerDevice.request('call.invite', { to: [others[0]!.handle], media: 'audio' });
		await otherDevices[0]!.waitFor('call.incoming');
		await otherDevices[0]!.request('call.decline', { callId: declined.callId });
		await callerDevice.request('call.invite', { to: [others[1]!.handle], media: 'audio' });
		await otherDevices[1]!.waitFor('call.incoming');
		await clock.advance(1000);
		await otherDevices[1]!.waitFor('call.missed');
		await callerDevice.request('call.invite', { to: [others[2]!.handle], media: 'audio' });
		await expect(callerDevice.request('call.invite', { to: ['nobody_at_all'], media: 'audio' })).rejects.toMatchObject({ code: 'unavailable' });

		const pipes = await pipeExporter(accepted.roomId);

		const [port] = [await findFreePorts(1)];
		promUrl = `http://127.0.0.1:${port}`;
		const config = path.join(dir, 'prometheus.yml');
		fs.writeFileSync(config, [
			'global:',
			'  scrape_interval: 1s',
			'  evaluation_interval: 1s',
			'scrape_configs:',
			'  - job_name: switchyard',
			'    static_configs:',
			`      - targets: ['${new URL(node.url).host}', '${pipes}']`,
		].join('\n'));
		prometheus = spawn(PROMETHEUS, [
			`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
		], { stdio: ['ignore', 'pipe', 'pipe'] });
		prometheus.stdout!.on('data', (chunk: Buffer) => (promLog += chunk.toString()));
		prometheus.stderr!.on('data', (chunk: Buffer) => (promLog += chunk.toString()));
		await pollUntil('Prometheus ready', async () => (await fetch(`${promUrl}/-/ready`)).ok, { timeoutMs: 20000, intervalMs: 250 });
		// Enough scrapes for the rate() windows.
		await pollUntil('12 scrapes of the node', async () => {
			const result = await query('count_over_time(switchyard_workers[1m])');
			return Number(result[0]?.value[1] ?? 0) >= 12;
		}, { timeoutMs: 40000, intervalMs: 500 });
	}, 90_000);

	/**
	 * The inter-node pipe panels' series, on a second target: the node is alone
	 * in its fleet, so a real PipeTransport pair from the call room's router
	 * (the caller's video) to a router of its own stands for a pipe to another
	 * node, both ends handed to the node's PipeSampler the way a fleet's node
	 * hands its NodePipes (src/node.ts). Returns the target's host:port.
	 */
	async function pipeExporter(roomId: string): Promise<string> {
		const registry = new client.Registry();
		let pipes: NodePipeInfo[] = [];
		// NOTE: before the far router: the sampler follows pipe producers from their transport's creation.
		const sampler = new PipeSampler({ registry, pool: node.pool, pipes: { pipes: () => pipes } });
		const room = node.registry.get(roomId)!;
		const peer = [...room.peers.values()].find((p) => [...p.producers.values()].some((producer) => producer.kind === 'video'))!;
		const video = [...peer.producers.values()].find((producer) => producer.kind === 'video')!;
		const far = await node.pool.workers[0]!.worker.createRouter({ mediaCodecs: MEDIA_CODECS });
		const pair = await pipeProducer(peer.routerOfProducer(video.id)!.router, far, video);
		pipes = [
			{ peerNode: 'node-far', direction: 'out', transport: pair.out, streams: 1 },
			{ peerNode: 'node-far', direction: 'in', transport: pair.in, streams: 1 },
		];
		const exporter = http.createServer((_req, res) => void sampler.sample().then(() => registry.metrics()).then((text) => res.end(text)));
		await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve));
		closers.push(() => {
			exporter.close();
			exporter.closeAllConnections();
			sampler.close();
			far.close();
		});
		return `127.0.0.1:${(exporter.address() as AddressInfo).port}`;
	}

	afterAll(async () => {
		prometheus?.kill('SIGTERM');
		for (const close of closers.reverse()) {
			await close();
		}
		await node?.close();
		fs.rmSync(dir, { recursive: true, force: true });
	});

	async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
		const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
		const body = await res.json() as { status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
		if (body.status !== 'success') {
			throw new Error(`${expr}: ${body.error}`);
		}
		return body.data!.result;
	}

	const panels = dashboards.flatMap(([file, dashboard]) => dashboard.panels.flatMap((panel) =>
		(panel.targets ?? []).map((target) => [file, panel.title!, target.refId, target.expr!] as const)));

	test.each(panels)('%s: "%s" %s returns data', async (_file, _title, _ref, expr) => {
		try {
			const result = await query(substitute(expr));
			expect(result.length).toBeGreaterThan(0);
		} catch (error) {
			process.stderr.write(`prometheus log tail:\n${promLog.slice(-2000)}\n`);
			throw error;
		}
	});

	test('the call and its siblings are in the funnel', async () => {
		const answered = await query('sum(switchyard_call_outcomes_total{outcome="answered"})');
		expect(Number(answered[0]!.value[1])).toBe(1);
		const missed = await query('sum(switchyard_call_outcomes_total{outcome=~"no_answer|declined|unavailable"})');
		expect(Number(missed[0]!.value[1])).toBeGreaterThanOrEqual(3);
		const bytes = await query('sum(rate(switchyard_rtp_bytes_total{direction="out"}[10s]))');
		expect(Number(bytes[0]!.value[1])).toBeGreaterThan(0);
	});

	test('the pipe panels see both ends of the pipe, and media through it', async () => {
		const ends = await query('sum by (direction) (switchyard_cluster_pipe_streams{node="node-far"})');
		expect(Object.fromEntries(ends.map((r) => [r.metric.direction, Number(r.value[1])]))).toEqual({ in: 1, out: 1 });
		const bitrate = await query('min(switchyard_cluster_pipe_bitrate_bps{node="node-far"})');
		expect(Number(bitrate[0]!.value[1])).toBeGreaterThan(10_000);
		const loss = await query('max(switchyard_cluster_pipe_loss_ratio)');
		expect(Number(loss[0]!.value[1])).toBeLessThan(0.05);
	});
});
