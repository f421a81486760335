import type { Redis } from 'ioredis';
import type { CallService } from '../calls';
import type { WebhooksConfig } from '../config';
import type { Logger } from '../logging';
import type { RoomRegistry } from '../rooms';
import type { Store } from '../store';
import type { Clock } from '../util';
import { LocalRoomSeqs, RedisRoomSeqs } from './RoomSeqs';
import { watchCalls, watchRooms } from './watch';
import { Webhooks } from './Webhooks';

export type CreateWebhooksDeps = {
	config: WebhooksConfig;
	store: Store;
	/** This node's id (the owner of its queue in the store: keep it across restarts). */
	nodeId: string;
	rooms: RoomRegistry;
	calls: CallService;
	/** A fleet's Redis: seqs and room starts shared by its nodes. */
	redis?: { client: Redis; keyPrefix: string };
	clock: Clock;
	logger: Logger;
};

/** The node's webhooks, watching its rooms and calls, started; undefined without webhooks.urls. */
export function createWebhooks(deps: CreateWebhooksDeps): Webhooks | undefined {
	const { config, redis } = deps;
	if (config.urls.length === 0 || config.secret === null) {
		return undefined;
	}
	const seqs = redis ? new RedisRoomSeqs({ redis: redis.client, keyPrefix: redis.keyPrefix, nodeId: deps.nodeId }) : new LocalRoomSeqs(deps.clock);
	const webhooks = new Webhooks({
		config: { ...config, secret: config.secret }, store: deps.store, nodeId: deps.nodeId, seqs, clock: deps.clock, logger: deps.logger.child({ module: 'webhooks' }),
	});
	watchRooms(deps.rooms, webhooks, seqs);
	watchCalls(deps.calls, webhooks);
	webhooks.start();
	return webhooks;
}
