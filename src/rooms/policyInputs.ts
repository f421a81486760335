import type { PolicyConfig } from '../config';
import type { ms } from '../media';
import type { ConsumerDecision, ConsumerInput, PolicyTable } from '../policy';

// Pure helpers of the PolicyApplier: what it feeds the policy (src/policy)
// and the two decisions it makes without it.

/** The policy table (src/policy) of the config's `policy` section. */
export function policyTable(config: PolicyConfig): PolicyTable {
	return {
		thumbnailMaxHeight: config.thumbnailMaxHeight,
		mediumMaxHeight: config.mediumMaxHeight,
		maxLayerByRoomSize: [[2, 2], [config.midLayerFromPeers, 1], [config.lowLayerFromPeers, 0]],
		layerBitrates: config.layerBitrates,
		audioBitrate: config.audioBitrate,
		publisherCapByRoomSize: config.publisherCapFromPeers.map((peers, i) => [peers, config.publisherCapBitrates[i]!]),
	};
}

/** Spatial layers of a consumer's stream, from its scalability mode (L3T3 -> 3). */
export function spatialLayers(consumer: ms.Consumer): number {
	const mode = consumer.rtpParameters.encodings?.[0]?.scalabilityMode;
	const match = mode ? /^S?L(\d+)/.exec(mode) : null;
	return consumer.type === 'simulcast' || consumer.type === 'svc' ? Number(match?.[1] ?? 1) : 1;
}

/** The policy off: every video at its top layer, nothing paused, equal priority. */
export function topLayers(consumers: ConsumerInput[]): Map<string, ConsumerDecision> {
	return new Map(consumers.map((c) => [c.id, { paused: false, spatialLayer: Math.max(0, c.spatialLayers - 1), temporalLayer: 2, priority: 1 }]));
}

/** A decision held under the layers a client asked for itself. */
export function underCeiling(decision: ConsumerDecision, ceiling: { spatialLayer: number; temporalLayer?: number }): ConsumerDecision {
	return {
		...decision,
		spatialLayer: Math.min(decision.spatialLayer, ceiling.spatialLayer),
		temporalLayer: Math.min(decision.temporalLayer, ceiling.temporalLayer ?? Infinity),
	};
}

/** A peer's downlink: its bandwidth estimate (while below what it wants), the cap set on it, and the budget of the last pass. */
export type Downlink = { estimate?: number; cap?: number; used?: number };

/** What a downlink may carry now: the config's most, the cap and the estimate. */
export function budget(maxDownlinkBitrate: number, downlink: Downlink): number {
	return Math.min(maxDownlinkBitrate, downlink.cap ?? Infinity, downlink.estimate ?? Infinity);
}

/** The policy's downlink inputs: the hard limit (config and cap) and, below it, the estimate. */
export function downlinkInputs(maxDownlinkBitrate: number, downlink: Downlink): { downlinkBps: number; estimatedDownlinkBps?: number } {
	const downlinkBps = Math.min(maxDownlinkBitrate, downlink.cap ?? Infinity);
	return downlink.estimate !== undefined && downlink.estimate < downlinkBps ? { downlinkBps, estimatedDownlinkBps: downlink.estimate } : { downlinkBps };
}
