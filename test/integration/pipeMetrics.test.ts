import dgram from 'node:dgram';
import { MEDIA_CODECS } from '../../src/media';
import { createMetrics, type Metrics } from '../../src/metrics';
import type { NodePipeInfo } from '../../src/rooms';
import { metricValue } from '../helpers/metrics';
import { startTestNode, type TestNode } from '../helpers/node';
import { pipeProducer } from '../helpers/pipes';
import { pollUntil } from '../helpers/poll';
import { vp8Parameters } from '../helpers/rtp';

// The inter-node pipe gauges (src/metrics/PipeSampler.ts) over real mediasoup
// pipe transports: a PipeTransport pair between two routers of the node's
// worker stands for the two nodes' ends of a pipe, with plain RTP sent here
// flowing through it, first whole, then with every tenth packet left out.

const GAUGES = ['switchyard_cluster_pipes', 'switchyard_cluster_pipe_streams', 'switchyard_cluster_pipe_bitrate_bps', 'switchyard_cluster_pipe_loss_ratio'];
const SSRC = 31337;

/** An RTP packet of a VP8 key frame's first partition (so that a pipe consumer forwards it at once), 200 bytes. */
function vp8Packet(seq: number): Buffer {
	const packet = Buffer.alloc(200);
	packet.writeUInt8(0x80, 0);
	packet.writeUInt8(96, 1);
	packet.writeUInt16BE(seq & 0xffff, 2);
	packet.writeUInt32BE((seq * 3000) >>> 0, 4);
	packet.writeUInt32BE(SSRC, 8);
	// VP8 payload descriptor: X and S set, partition 0; then a key frame's first byte (P = 0).
	packet.writeUInt8(0x90, 12);
	return packet;
}

describe('inter-node pipe metrics', () => {
	let node: TestNode;

	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 1 }, metrics: { statsIntervalMs: 600_000 } });
	});
	afterAll(async () => {
		await node.close();
	});

	test('a node alone exports the pipe gauges with no series', async () => {
		const text = await (await fetch(`${node.url}/metrics`)).text();
		for (const name of GAUGES) {
			expect(text).toContain(`# TYPE ${name} gauge`);
			expect(text.split('\n').filter((line) => line.startsWith(`${name}{`))).toEqual([]);
		}
	});

	test('pipe ends and streams by node and direction, bitrate while RTP flows, sequence gaps as loss; no series once closed', async () => {
		let pipes: NodePipeInfo[] = [];
		// NOTE: before the routers, as on a node: the sampler follows pipe producers from their transport's creation.
		const metrics: Metrics = createMetrics({ pool: node.pool, pipes: { pipes: () => pipes.filter((p) => !p.transport.closed) }, config: node.config.metrics });
		const socket = dgram.createSocket('udp4');
		socket.on('message', () => undefined);
		let sender: NodeJS.Timeout | undefined;
		const worker = node.pool.workers[0]!.worker;
		const [origin, far] = [await worker.createRouter({ mediaCodecs: MEDIA_CODECS }), await worker.createRouter({ mediaCodecs: MEDIA_CODECS })];
		try {
			const plain = await origin.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
			const producer = await plain.produce({ kind: 'video', rtpParameters: vp8Parameters(SSRC) });
			const pair = await pipeProducer(origin, far, producer);
			pipes = [
				{ peerNode: 'node-b', direction: 'out', transport: pair.out, streams: 1 },
				{ peerNode: 'node-b', direction: 'in', transport: pair.in, streams: 1 },
				{ peerNode: 'node-c', direction: 'in', transport: await far.createPipeTransport({ listenIp: '127.0.0.1' }), streams: 0 },
			];
			const value = async (name: string, peer: string, direction: string) =>
				metricValue(await metrics.registry.metrics(), `${name}{node="${peer}",direction="${direction}"}`);
			expect(await value('switchyard_cluster_pipes', 'node-b', 'in')).toBe(1);
			expect(await value('switchyard_cluster_pipes', 'node-b', 'out')).toBe(1);
			expect(await value('switchyard_cluster_pipes', 'node-c', 'in')).toBe(1);
			expect(await value('switchyard_cluster_pipe_streams', 'node-b', 'out')).toBe(1);
			expect(await value('switchyard_cluster_pipe_streams', 'node-c', 'in')).toBe(0);
			// Bitrate and loss only from a sample on; loss only of in ends.
			expect(await value('switchyard_cluster_pipe_bitrate_bps', 'node-b', 'in')).toBeUndefined();
			await metrics.sampleNow();
			expect(await value('switchyard_cluster_pipe_loss_ratio', 'node-b', 'out')).toBeUndefined();
			expect(await value('switchyard_cluster_pipe_loss_ratio', 'node-c', 'in')).toBe(0);

			// 100 packets a second of 200 bytes, every tenth one left out once `gaps` is set.
			let seq = 1000;
			let gaps = false;
			await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
			sender = setInterval(() => {
				seq++;
				if (!(gaps && seq % 10 === 0)) {
					socket.send(vp8Packet(seq), plain.tuple.localPort, '127.0.0.1');
				}
			}, 10);
			const sampled = async (name: string, direction: string) => {
				await metrics.sampleNow();
				return value(name, 'node-b', direction);
			};
			await pollUntil('bitrate both ways, and no loss', async () => (await sampled('switchyard_cluster_pipe_bitrate_bps', 'in'))! > 100_000
				&& (await value('switchyard_cluster_pipe_bitrate_bps', 'node-b', 'out'))! > 100_000
				&& (await value('switchyard_cluster_pipe_loss_ratio', 'node-b', 'in')) === 0, { timeoutMs: 8000, intervalMs: 500 });
			expect(await value('switchyard_cluster_pipe_bitrate_bps', 'node-c', 'in')).toBe(0);
			gaps = true;
			// RTCP fraction lost of about 26/256 once a receiver report covers the gaps.
			await pollUntil('a tenth of the packets lost', async () => {
				const loss = (await sampled('switchyard_cluster_pipe_loss_ratio', 'in'))!;
				return loss > 0.07 && loss < 0.13;
			}, { timeoutMs: 8000, intervalMs: 500 });

			pair.close();
			await metrics.sampleNow();
			const text = await metrics.registry.metrics();
			expect(text.split('\n').filter((line) => line.startsWith('switchyard_cluster_pipe') && line.includes('node-b'))).toEqual([]);
			expect(await value('switchyard_cluster_pipes', 'node-c', 'in')).toBe(1);
		} finally {
			clearInterval(sender);
			socket.close();
			origin.close();
			far.close();
			metrics.close();
		}
	});
});
