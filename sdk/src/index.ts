/**
 * Switchyard's server SDK for Node 20+: a platform's backend mints its
 * users' access tokens, lists and ends rooms, removes, mutes and updates
 * participants, sends data messages, and verifies the webhooks the nodes
 * send (sdk/README.md). It stands alone: nothing here imports the server's
 * code.
 */
export { SwitchyardServer, type SwitchyardServerOptions } from './SwitchyardServer';
export { SwitchyardApiError, type ApiErrorCode } from './SwitchyardApiError';
export type {
	AccessToken, CreatedRoom, DataOptions, DataResult, MuteResult, MuteTrack, ParticipantPermissions, ParticipantSummary, ParticipantUpdate,
	RoomList, RoomSettings, RoomSummary, StoredRoomSettings, TokenGrants, TrackSummary, UpdateResult,
} from './types';
export {
	WEBHOOK_EVENTS, WEBHOOK_SIGNATURE_HEADER, WebhookVerificationError, signWebhook, verifyWebhook,
	type WebhookCall, type WebhookEvent, type WebhookEventName, type WebhookParticipant, type WebhookTrack, type WebhookVerificationReason,
} from './webhooks';
