import type { PeerSpec } from './scenarios';

/**
 * What a load run drives: a Switchyard node through its signaling API, or a
 * bare mediasoup worker (the engine alone, for the ratio).
 */
export interface LoadTarget {
	/** For the report: what was driven. */
	readonly description: string;
	/** Adds one peer: its transports, producers (media starts) and consumers (to the sink). */
	addPeer(spec: PeerSpec): Promise<void>;
	/** Consumers live now (offered and acknowledged, for a node). */
	consumers(): number;
	/** The pids of the mediasoup workers, to read their CPU time from /proc. */
	workerPids(): number[];
	/** Per worker (in workerPids' order): its subscribers and consumers, where the target knows them. */
	perWorker?(): { subscribers: number; consumers: number }[];
	/** Extra figures read after each step (a node's capacity gauge); undefined for none. */
	gauge?(): Promise<GaugeReading | undefined>;
	close(): Promise<void>;
}

/** The node's own capacity estimate, from /metrics. */
export type GaugeReading = {
	/** switchyard_capacity_consumers: consumers the node can still take before metrics.targetCpu. */
	headroom: number;
	/** switchyard_consumers summed over kinds. */
	consumers: number;
	cpuPerConsumer: number;
	targetCpu: number;
	workers: number;
	/** (consumers + headroom) / workers: what the gauge says one core carries at the target. */
	consumersPerCore: number;
};
