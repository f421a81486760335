export { signatureHeader, WEBHOOK_EVENTS, type WebhookEvent, type WebhookEventName, type WebhookSubject } from './events';
export { LocalRoomSeqs, RedisRoomSeqs, type RoomSeqs } from './RoomSeqs';
export type { DeliveryResult } from './UrlSender';
export { Webhooks, type DropReason, type WebhooksDeps, type WebhooksEvents } from './Webhooks';
export { watchCalls, watchRooms } from './watch';
export { createWebhooks, type CreateWebhooksDeps } from './createWebhooks';
