import client from 'prom-client';
import { mediasoup, type MediaWorker, type ms, type WorkerPool } from '../media';
import type { NodePipeInfo } from '../rooms';

/** What lists the node's inter-node pipes (the rooms' NodePipes on a fleet's node). */
export type PipeSource = { pipes(): NodePipeInfo[] };

type Direction = NodePipeInfo['direction'];
/** The pipe ends of one other node and direction: one series of each gauge. */
type Group = { labels: { node: string; direction: Direction }; pipes: NodePipeInfo[] };
/** What the last stats sample measured of one group. */
type Sampled = { bitrate: number; loss?: number };
/** Loss of the in ends' streams: fraction lost weighted by packets received. */
type LossSum = { weighted: number; packets: number };

/**
 * Gauges of the node's inter-node pipes, one series per other node and
 * direction (bounded by the fleet's size): pipe ends and streams are read
 * from `pipes` when scraped; bitrate and loss come from the stats sample
 * (`sample()`, on the metrics' timer), so a scrape never waits on a worker.
 * A series lasts only while its pipes do. Without `pipes` (a node alone)
 * the gauges have no series.
 */
export class PipeSampler {
	readonly #pipes?: PipeSource;
	/**
	 * Pipe producers by PipeTransport, followed from the workers' observers:
	 * mediasoup lists a transport's producers to nobody.
	 */
	readonly #producers = new WeakMap<ms.Transport, Set<ms.Producer>>();
	readonly #unwatch: (() => void)[] = [];
	#sampled = new Map<string, Sampled>();
	/** Packets each in-end stream (`producerId ssrc`) had received at the last sample. */
	#received = new Map<string, number>();

	constructor({ registry, pool, pipes }: { registry: client.Registry; pool: WorkerPool; pipes?: PipeSource }) {
		this.#pipes = pipes;
		const registers = [registry];
		this.#gauge(registers, 'switchyard_cluster_pipes',
			'Inter-node pipe transports of this node\'s rooms, by the other node and direction (in: brings that node\'s producers here; out: sends this node\'s producers there).',
			(group) => group.pipes.length);
		this.#gauge(registers, 'switchyard_cluster_pipe_streams',
			'Streams the inter-node pipes carry, by the other node and direction: pipe producers of in ends, pipe consumers of out ends.',
			(group) => group.pipes.reduce((n, pipe) => n + pipe.streams, 0));
		this.#gauge(registers, 'switchyard_cluster_pipe_bitrate_bps',
			'Bits per second through the inter-node pipes at the last stats sample: received by in ends, sent by out ends (the pipe transports\' recvBitrate / sendBitrate: RTP, RTX and RTCP).',
			(_group, sampled) => sampled?.bitrate);
		this.#gauge(registers, 'switchyard_cluster_pipe_loss_ratio',
			'Share of RTP packets from the other node missing here (direction="in" only): the RTCP fraction lost of the in ends\' pipe producers '
			+ '(sequence gaps over each stream\'s last receiver-report interval, about 1 s for video, 5 s for audio), averaged over the streams '
			+ 'weighted by packets received since the previous stats sample; 0 when none arrived. Packets the other node never forwarded count too.',
			(_group, sampled) => sampled?.loss);
		if (pipes) {
			// NOTE: created with the pool, before any router: every pipe transport is seen from its creation on.
			pool.workers.forEach((worker) => this.#watch(worker));
			const onReplaced = (worker: MediaWorker) => this.#watch(worker);
			pool.observer.on('workerReplaced', onReplaced);
			this.#unwatch.push(() => pool.observer.off('workerReplaced', onReplaced));
		}
	}

	/** Asks every pipe transport (and every in end's pipe producer) for its stats: one worker request each. */
	async sample(): Promise<void> {
		const sampled = new Map<string, Sampled>();
		const received = new Map<string, number>();
		await Promise.all([...this.#groups()].map(async ([key, { labels, pipes }]) => {
			const loss: LossSum = { weighted: 0, packets: 0 };
			const bitrates = await Promise.all(pipes.map((pipe) => this.#pipe(pipe, loss, received)));
			sampled.set(key, {
				bitrate: bitrates.reduce((sum, bps) => sum + bps, 0),
				loss: labels.direction === 'in' ? (loss.packets > 0 ? loss.weighted / loss.packets : 0) : undefined,
			});
		}));
		this.#sampled = sampled;
		this.#received = received;
	}

	close(): void {
		this.#unwatch.splice(0).forEach((unwatch) => unwatch());
	}

	/** A gauge whose series are the current groups; `value` undefined leaves a group's series out. */
	#gauge(registers: client.Registry[], name: string, help: string, value: (group: Group, sampled?: Sampled) => number | undefined): void {
		const gauge: client.Gauge<'node' | 'direction'> = new client.Gauge({
			name, help, labelNames: ['node', 'direction'], registers,
			collect: () => {
				gauge.reset();
				for (const [key, group] of this.#groups()) {
					const v = value(group, this.#sampled.get(key));
					if (v !== undefined) {
						gauge.set(group.labels, v);
					}
				}
			},
		});
	}

	/** The pipe ends now, by `direction node`. */
	#groups(): Map<string, Group> {
		const groups = new Map<string, Group>();
		for (const pipe of this.#pipes?.pipes() ?? []) {
			const key = `${pipe.direction} ${pipe.peerNode}`;
			const group = groups.get(key) ?? { labels: { node: pipe.peerNode, direction: pipe.direction }, pipes: [] };
			group.pipes.push(pipe);
			groups.set(key, group);
		}
		return groups;
	}

	/** One pipe end's bitrate; an in end's streams add to `loss`. A transport closed meanwhile counts 0. */
	async #pipe({ direction, transport }: NodePipeInfo, loss: LossSum, received: Map<string, number>): Promise<number> {
		const [stats] = await transport.getStats().catch(() => []);
		if (direction === 'in') {
			await Promise.all([...this.#producers.get(transport) ?? []].map(async (producer) => {
				for (const stream of await producer.getStats().catch(() => [])) {
					const key = `${producer.id} ${stream.ssrc}`;
					const packets = Math.max(0, stream.packetCount - (this.#received.get(key) ?? 0));
					loss.weighted += (stream.fractionLost / 256) * packets;
					loss.packets += packets;
					received.set(key, stream.packetCount);
				}
			}));
		}
		return (direction === 'in' ? stats?.recvBitrate : stats?.sendBitrate) ?? 0;
	}

	/** Follows the pipe producers of every PipeTransport made on `worker`. */
	#watch({ worker }: MediaWorker): void {
		const onRouter = (router: ms.Router) => router.observer.on('newtransport', (transport) => {
			if (!(transport instanceof mediasoup.types.PipeTransport)) {
				return;
			}
			const producers = new Set<ms.Producer>();
			this.#producers.set(transport, producers);
			transport.observer.on('newproducer', (producer) => {
				producers.add(producer);
				producer.observer.once('close', () => producers.delete(producer));
			});
		});
		worker.observer.on('newrouter', onRouter);
		this.#unwatch.push(() => worker.observer.off('newrouter', onRouter));
	}
}
