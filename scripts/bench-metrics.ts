/**
 * What collecting metrics costs: the periodic stats sample (every transport
 * and consumer asked for its stats) and a /metrics scrape, in Node CPU and
 * mediasoup worker CPU, at a few hundred consumers.
 *
 *   node --import tsx scripts/bench-metrics.ts [--peers 12] [--samples 20] [--json]
 *
 * Peers join one room on one worker and each publishes audio and video (RTP
 * parameters only: transports are not connected, so the numbers are the
 * cost of the stats machinery itself, not of forwarding).
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { startTestNode } from '../test/helpers/node';
import { opusParameters, vp8Parameters } from '../test/helpers/rtp';
import { SignalingClient } from '../test/helpers/signalingClient';

const { values } = parseArgs({
	options: {
		peers: { type: 'string', default: '12' },
		samples: { type: 'string', default: '20' },
		'interval-ms': { type: 'string', default: '5000' },
		json: { type: 'boolean', default: false },
	},
});
const peers = Math.min(40, Math.max(2, Number(values.peers)));
const samples = Math.min(200, Math.max(3, Number(values.samples)));
const intervalMs = Number(values['interval-ms']);

async function main(): Promise<void> {
	const node = await startTestNode({ media: { workers: 1 }, metrics: { statsIntervalMs: 600_000 }, rooms: { maxPeers: 100 }, log: { level: 'warn' } });
	const clients: SignalingClient[] = [];
	try {
		for (let i = 0; i < peers; i++) {
			const client = await SignalingClient.connect(node.url, { token: await node.tokens.issue({ sub: `bench-${i}`, rooms: ['*'] }) });
			client.onConsumerNew(() => undefined);
			clients.push(client);
			const { routerRtpCapabilities } = await client.request('media.capabilities', {});
			await client.request('room.join', { roomId: 'bench', rtpCapabilities: routerRtpCapabilities as never });
			const send = await client.request('transport.create', { direction: 'send' });
			await client.request('transport.create', { direction: 'recv' });
			await client.request('producer.create', { transportId: send.id, kind: 'audio', rtpParameters: opusParameters(10_000 + i) as never, source: 'mic' });
			await client.request('producer.create', { transportId: send.id, kind: 'video', rtpParameters: vp8Parameters(20_000 + i) as never, source: 'camera' });
		}
		const expected = peers * (peers - 1) * 2;
		const deadline = Date.now() + 60_000;
		while (node.pool.workers[0]!.load.consumers < expected && Date.now() < deadline) {
			await new Promise((resolve) => setTimeout(resolve, 100));
		}
		const worker = node.pool.workers[0]!;
		const consumers = worker.load.consumers;
		const transports = worker.load.transports;

		const measure = async (work: () => Promise<unknown>) => {
			const workerBefore = await worker.worker.getResourceUsage();
			const nodeBefore = process.cpuUsage();
			const started = process.hrtime.bigint();
			for (let i = 0; i < samples; i++) {
				await work();
			}
			const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
			const nodeCpu = process.cpuUsage(nodeBefore);
			const workerAfter = await worker.worker.getResourceUsage();
			return {
				wallMsPerRun: wallMs / samples,
				nodeCpuMsPerRun: (nodeCpu.user + nodeCpu.system) / 1000 / samples,
				workerCpuMsPerRun: ((workerAfter.ru_utime + workerAfter.ru_stime) - (workerBefore.ru_utime + workerBefore.ru_stime)) / samples,
			};
		};
		const sample = await measure(() => node.metrics.sampleNow());
		const scrape = await measure(async () => (await fetch(`${node.url}/metrics`)).text());
		const perSecond = (msPerRun: number) => msPerRun / intervalMs;
		const result = {
			machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version },
			load: { peers, consumers, transports, samples, statsIntervalMs: intervalMs },
			statsSample: sample,
			scrape,
			// Share of one core, sampling every statsIntervalMs and scraped every 15 s.
			coreShare: {
				node: perSecond(sample.nodeCpuMsPerRun) + scrape.nodeCpuMsPerRun / 15_000,
				worker: perSecond(sample.workerCpuMsPerRun) + scrape.workerCpuMsPerRun / 15_000,
			},
		};
		if (values.json) {
			process.stdout.write(`${JSON.stringify(result)}\n`);
		} else {
			const pct = (x: number) => `${(x * 100).toFixed(3)} %`;
			process.stdout.write([
				`machine: ${result.machine.cpu}, ${result.machine.cores} cores, Node ${result.machine.node}`,
				`load: ${peers} peers in one room on one worker, ${consumers} consumers, ${transports} transports`,
				`stats sample: ${sample.wallMsPerRun.toFixed(1)} ms wall, ${sample.nodeCpuMsPerRun.toFixed(1)} ms Node CPU, ${sample.workerCpuMsPerRun.toFixed(1)} ms worker CPU (mean of ${samples})`,
				`/metrics scrape: ${scrape.wallMsPerRun.toFixed(1)} ms wall, ${scrape.nodeCpuMsPerRun.toFixed(1)} ms Node CPU`,
				`cost at one sample per ${intervalMs} ms and a scrape per 15 s: Node ${pct(result.coreShare.node)} of a core, worker ${pct(result.coreShare.worker)} of a core`,
			].join('\n') + '\n');
		}
	} finally {
		clients.forEach((c) => c.disconnect());
		await node.close();
	}
}

main().then(() => process.exit(0), (error: unknown) => {
	process.stderr.write(`bench-metrics: ${(error as Error).stack ?? String(error)}\n`);
	process.exit(1);
});
