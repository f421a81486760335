/**
 * Load generator: how many calls a node carries, measured.
 *
 *   npm run loadtest -- [--url http://127.0.0.1:3000] [--scenario small|large|broadcast|audio]
 *     [--step-size N] [--room-size N] [--max-steps 12] [--settle-seconds 3] [--window-seconds 8]
 *     [--timeout-seconds 600] [--target-cpu 0.8] [--max-loss 0.02] [--concurrency 10]
 *     [--worker-core C] [--generator-core C] [--sample-every 4] [--transport webrtc|plain]
 *     [--receiver-loss 0.01] [--bare] [--json]
 *
 * Drives a separately running node through its signaling API: publishers send
 * over plain RTP transports (transport.createPlain), and subscribers receive
 * over WebRTC transports through the worker's WebRtcServer as browsers do
 * (--transport webrtc, the default: ICE, DTLS-SRTP, receiver reports, NACKs
 * of --receiver-loss of the video packets; scripts/loadtest/webrtcReceiver.ts)
 * or over plain transports to a counting sink (--transport plain). It signs
 * its own tokens with the loadtest grant, so it needs the node's auth.secret
 * in SWITCHYARD_AUTH_SECRET. Media is the synthetic VP8+Opus cycle of
 * scripts/loadtest/capture.ts, SRTP AEAD_AES_256_GCM, at real rate. With --bare
 * it drives a mediasoup worker of its own instead (no Switchyard: the engine's
 * figure for the ratio). --worker-core pins the worker(s) to a core and
 * --generator-core this process to another (taskset), as docs/capacity.md
 * measures. --sample-every N counts the packets of one subscriber in N and
 * lets the kernel drop the others' (scripts/loadtest/sink.ts): reading every
 * packet would load the generator's core more than the worker's. Uncounted
 * WebRTC receivers connect, then fall silent (no RTCP).
 * With --json the last line is the result as one JSON object.
 * Exits 1 on a failure before any step was measured.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { BareTarget } from './loadtest/bareTarget';
import { NodeTarget } from './loadtest/nodeTarget';
import { Pacer } from './loadtest/publisher';
import { TRANSPORT_KINDS, WebRtcReceivers, type TransportKind } from './loadtest/receivers';
import { formatResult, pin, runLoad } from './loadtest/run';
import { scenario, SCENARIO_NAMES, type ScenarioName } from './loadtest/scenarios';
import { Sink } from './loadtest/sink';
import type { LoadTarget } from './loadtest/target';

const OPTIONS = {
	url: { type: 'string', default: 'http://127.0.0.1:3000' },
	scenario: { type: 'string', default: 'small' },
	'step-size': { type: 'string' },
	'room-size': { type: 'string' },
	'max-steps': { type: 'string', default: '12' },
	'settle-seconds': { type: 'string', default: '3' },
	'window-seconds': { type: 'string', default: '8' },
	'timeout-seconds': { type: 'string', default: '600' },
	'target-cpu': { type: 'string', default: '0.8' },
	'max-loss': { type: 'string', default: '0.02' },
	concurrency: { type: 'string', default: '10' },
	'worker-core': { type: 'string' },
	'generator-core': { type: 'string' },
	'bind-ip': { type: 'string', default: '127.0.0.1' },
	'sample-every': { type: 'string', default: '4' },
	transport: { type: 'string', default: 'webrtc' },
	'receiver-loss': { type: 'string', default: '0.01' },
	bare: { type: 'boolean', default: false },
	json: { type: 'boolean', default: false },
} as const;

function parse() {
	const { values } = parseArgs({ options: OPTIONS });
	const number = (name: keyof typeof OPTIONS, min: number, max: number, integer = true): number | undefined => {
		const raw = values[name] as string | undefined;
		if (raw === undefined) {
			return undefined;
		}
		const value = Number(raw);
		if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
			throw new Error(`--${name}: expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(raw)}`);
		}
		return value;
	};
	if (!(SCENARIO_NAMES as readonly string[]).includes(values.scenario)) {
		throw new Error(`--scenario: expected one of ${SCENARIO_NAMES.join(', ')}, got ${JSON.stringify(values.scenario)}`);
	}
	if (!(TRANSPORT_KINDS as readonly string[]).includes(values.transport)) {
		throw new Error(`--transport: expected one of ${TRANSPORT_KINDS.join(', ')}, got ${JSON.stringify(values.transport)}`);
	}
	const cores = os.cpus().length;
	return {
		url: values.url.replace(/\/+$/, ''),
		scenario: values.scenario as ScenarioName,
		stepSize: number('step-size', 1, 1000),
		roomSize: number('room-size', 2, 50),
		maxSteps: number('max-steps', 1, 100)!,
		settleSeconds: number('settle-seconds', 0, 60, false)!,
		windowSeconds: number('window-seconds', 1, 120, false)!,
		timeoutSeconds: number('timeout-seconds', 5, 3600)!,
		targetCpu: number('target-cpu', 0.05, 1, false)!,
		maxLoss: number('max-loss', 0, 1, false)!,
		concurrency: number('concurrency', 1, 100)!,
		workerCore: number('worker-core', 0, cores - 1),
		generatorCore: number('generator-core', 0, cores - 1),
		bindIp: values['bind-ip'],
		sampleEvery: number('sample-every', 1, 100)!,
		transport: values.transport as TransportKind,
		receiverLoss: number('receiver-loss', 0, 0.5, false)!,
		bare: values.bare,
		json: values.json,
	};
}

async function main(): Promise<number> {
	const options = parse();
	const log = (line: string) => console.log(line);
	if (options.generatorCore !== undefined) {
		pin(process.pid, options.generatorCore);
	}
	const loadAverage = os.loadavg().map((l) => l.toFixed(2)).join(' ');
	log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'} x ${os.cpus().length}, Node ${process.version}, load average at start ${loadAverage}`);
	const webrtc = options.transport === 'webrtc';
	// NOTE: WebRTC receivers sample themselves (receivers.ts): the sink then needs no discard socket.
	const sink = await Sink.start(options.bindIp, { sampleEvery: webrtc ? 1 : options.sampleEvery });
	const pacer = new Pacer();
	const receivers = webrtc ? await WebRtcReceivers.start(sink, { bindIp: options.bindIp, sampleEvery: options.sampleEvery, lossRate: options.receiverLoss }) : undefined;
	let target: LoadTarget | undefined;
	try {
		if (options.bare) {
			target = await BareTarget.start({ pacer, sink: () => sink.nextAddress(), ip: options.bindIp, receivers });
		} else {
			const secret = process.env.SWITCHYARD_AUTH_SECRET;
			if (!secret) {
				throw new Error('SWITCHYARD_AUTH_SECRET must hold the node\'s auth.secret: the load test signs tokens with the loadtest grant');
			}
			target = await NodeTarget.start({
				url: options.url, secret, metricsToken: process.env.SWITCHYARD_METRICS_TOKEN, pacer, sink: () => sink.nextAddress(), ip: options.bindIp, receivers,
			});
		}
		if (options.workerCore !== undefined) {
			for (const pid of target.workerPids()) {
				pin(pid, options.workerCore);
			}
		}
		const chosen = scenario(options.scenario, { stepSize: options.stepSize, roomSize: options.roomSize });
		log(`target: ${target.description}; worker pids ${target.workerPids().join(', ')}` +
			(options.workerCore !== undefined ? ` pinned to core ${options.workerCore}` : '') +
			(options.generatorCore !== undefined ? `, generator pinned to core ${options.generatorCore}` : ''));
		log(`scenario ${chosen.name}: ${chosen.describe}; ` + (webrtc
			? `WebRTC receivers, counting 1 subscriber in ${options.sampleEvery} (it sends RTCP and NACKs ${(options.receiverLoss * 100).toFixed(1)} % of video)`
			: `plain receivers to the sink ${sink.address.ip}:${sink.address.port} (receive buffer ${sink.receiveBufferBytes} bytes), counting 1 subscriber in ${options.sampleEvery}`));
		const result = await runLoad(target, sink, pacer, { ...options, scenario: chosen, log });
		result.receivers = { transport: options.transport, ...(receivers ? { lossRate: options.receiverLoss, ...receivers.totals() } : {}) };
		for (const line of formatResult(result)) {
			log(line);
		}
		if (options.json) {
			console.log(JSON.stringify({ loadAverage, ...result }));
		}
		return result.steps.length > 0 ? 0 : 1;
	} finally {
		pacer.close();
		await target?.close();
		receivers?.close();
		sink.close();
	}
}

main().then((code) => process.exit(code), (error: unknown) => {
	console.error(`loadtest: ${(error as Error).message}`);
	process.exit(1);
});
