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
