import client from 'prom-client';
import type { ms } from '../media';
import type { PeerTransport, RoomRegistry } from '../rooms';

type Totals = { bytes: number; packets: number };

/**
 * Samples transport and consumer stats of every room on a timer: RTP bytes
 * and packets in and out (as counters, from each object's growth since its
 * last sample), and distributions of loss, RTT, score, simulcast layer and
 * downlink estimate. Its cost grows with the number of objects: one worker
 * request per transport and per consumer a sample (docs/metrics.md).
 */
export class StatsSampler {
	readonly #rooms?: RoomRegistry;
	readonly #bytes: client.Counter<'direction'>;
	readonly #packets: client.Counter<'direction'>;
	readonly #loss: client.Histogram;
	readonly #rtt: client.Histogram;
	readonly #score: client.Histogram;
	readonly #downlink: client.Histogram;
	readonly #layers: client.Gauge<'layer'>;
	/** Last totals seen per object id; objects gone since are forgotten each sample. */
	#last = new Map<string, Totals>();

	constructor({ registry, rooms }: { registry: client.Registry; rooms?: RoomRegistry }) {
		this.#rooms = rooms;
		const registers = [registry];
		this.#bytes = new client.Counter({ name: 'switchyard_rtp_bytes_total', help: 'RTP bytes received from publishers (in) and sent to subscribers (out).', labelNames: ['direction'], registers });
		this.#packets = new client.Counter({ name: 'switchyard_rtp_packets_total', help: 'RTP packets received from publishers (in) and sent to subscribers (out).', labelNames: ['direction'], registers });
		for (const direction of ['in', 'out']) {
			this.#bytes.inc({ direction }, 0);
			this.#packets.inc({ direction }, 0);
		}
		this.#loss = new client.Histogram({ name: 'switchyard_consumer_loss_ratio', help: 'Fraction of packets lost towards subscribers, per consumer and sample.', buckets: [0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1], registers });
		this.#rtt = new client.Histogram({ name: 'switchyard_consumer_rtt_seconds', help: 'Round-trip time to subscribers, per consumer and sample.', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2], registers });
		this.#score = new client.Histogram({ name: 'switchyard_consumer_score', help: 'mediasoup consumer score (0-10), per consumer and sample.', buckets: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], registers });
		this.#downlink = new client.Histogram({ name: 'switchyard_downlink_estimate_bps', help: 'Available outgoing bitrate estimated for receive transports, per sample.', buckets: [100e3, 250e3, 500e3, 1e6, 2e6, 4e6, 8e6, 16e6], registers });
		this.#layers = new client.Gauge({ name: 'switchyard_consumers_by_layer', help: 'Simulcast video consumers by the spatial layer they currently receive ("none" when paused or not yet).', labelNames: ['layer'], registers });
		for (const layer of ['0', '1', '2', 'none']) {
			this.#layers.set({ layer }, 0);
		}
	}

	async sample(): Promise<void> {
		if (!this.#rooms) {
			return;
		}
		const seen = new Map<string, Totals>();
		const layers = new Map<string, number>([['0', 0], ['1', 0], ['2', 0], ['none', 0]]);
		const work: Promise<void>[] = [];
		for (const room of this.#rooms.rooms()) {
			for (const peer of room.peers.values()) {
				for (const producer of peer.producers.values()) {
					work.push(this.#producer(producer, seen));
				}
				for (const consumer of peer.consumers.values()) {
					work.push(this.#consumer(consumer, seen));
					if (consumer.type === 'simulcast') {
						const layer = consumer.paused || consumer.producerPaused || !consumer.currentLayers ? 'none' : String(consumer.currentLayers.spatialLayer);
						layers.set(layer, (layers.get(layer) ?? 0) + 1);
					}
				}
				for (const transport of peer.transports.values()) {
					if (transport.appData.direction === 'recv') {
						work.push(this.#transport(transport));
					}
				}
			}
		}
		await Promise.all(work);
		for (const [layer, count] of layers) {
			this.#layers.set({ layer }, count);
		}
		this.#last = seen;
	}

	async #producer(producer: ms.Producer, seen: Map<string, Totals>): Promise<void> {
		const stats = await producer.getStats().catch(() => []);
		// One entry per encoding (simulcast) of type inbound-rtp.
		const totals = stats.reduce((t, s) => ({ bytes: t.bytes + s.byteCount, packets: t.packets + s.packetCount }), { bytes: 0, packets: 0 });
		this.#grow(producer.id, totals, 'in', seen);
	}

	async #consumer(consumer: ms.Consumer, seen: Map<string, Totals>): Promise<void> {
		const stats = await consumer.getStats().catch(() => []);
		const outbound = stats.find((s) => s.type === 'outbound-rtp');
		if (!outbound) {
			return;
		}
		this.#grow(consumer.id, { bytes: outbound.byteCount, packets: outbound.packetCount }, 'out', seen);
		if (outbound.packetCount > 0) {
			this.#loss.observe(outbound.fractionLost / 256);
			this.#score.observe(outbound.score);
			if (outbound.roundTripTime !== undefined && outbound.roundTripTime > 0) {
				this.#rtt.observe(outbound.roundTripTime / 1000);
			}
		}
	}

	async #transport(transport: PeerTransport): Promise<void> {
		const [stats] = await transport.getStats().catch(() => []);
		if (stats?.availableOutgoingBitrate !== undefined && 'iceState' in stats && stats.iceState !== 'new') {
			this.#downlink.observe(stats.availableOutgoingBitrate);
		}
	}

	#grow(id: string, totals: Totals, direction: 'in' | 'out', seen: Map<string, Totals>): void {
		const last = this.#last.get(id) ?? { bytes: 0, packets: 0 };
		this.#bytes.inc({ direction }, Math.max(0, totals.bytes - last.bytes));
		this.#packets.inc({ direction }, Math.max(0, totals.packets - last.packets));
		seen.set(id, totals);
	}
}
