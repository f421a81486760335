import type { MediaConfig, PolicyConfig, RoomsConfig, TurnConfig } from '../config';
import type { ms } from '../media';

/** The config sections a room reads. */
export type RoomConfig = { rooms: RoomsConfig; media: MediaConfig; turn: TurnConfig; policy: PolicyConfig };

/** What a producer carries: the protocol's `source` names the same four. */
export type Source = 'mic' | 'camera' | 'screen' | 'screenAudio';

export type TransportDirection = 'send' | 'recv';
/** `plain`: a PlainTransport of a load generator (transport.createPlain); otherwise WebRTC. */
export type TransportAppData = { peerId: string; direction: TransportDirection; plain?: boolean };
/** A peer's transport: WebRTC, or plain RTP for a load generator (transport.createPlain). */
export type PeerTransport = ms.WebRtcTransport<TransportAppData> | ms.PlainTransport<TransportAppData>;
export type ProducerAppData = { peerId: string; source: Source; transportId?: string };
export type ConsumerAppData = { peerId: string; producerPeerId: string; source: Source };

/** A per-peer limit that keeps the room from doing something (reported to the client once). */
export type PeerLimit = 'consumersPerPeer';

/**
 * One end of an inter-node pipe (NodePipes.ts), for metrics: a PipeTransport
 * of a room's router here, paired with one on `peerNode`. `in`: it brings
 * that node's producers here (its pipe producers); `out`: it sends this
 * node's producers there (its pipe consumers).
 */
export type NodePipeInfo = { peerNode: string; direction: 'in' | 'out'; transport: ms.PipeTransport; streams: number };
