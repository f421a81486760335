export { MIGRATIONS, migrate } from './migrations';
export { SqliteStore } from './SqliteStore';
export { CALLER_OUTCOMES, DEFAULT_SETTINGS } from './types';
export type {
	CallMedia, CalleeOutcome, CallerOutcome, CallOutcome, CallRecord, HistoryCursor, PublicUser, RelationKind, RelationsBetween, Session, Store, User, UserSettings,
} from './types';
