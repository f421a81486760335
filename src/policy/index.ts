export {
	decideSubscriber, DEFAULT_POLICY, estimateBitrate, layerForHeight, neededEncodings, publisherCap,
	type ConsumerDecision, type ConsumerInput, type PolicyTable, type SubscriberInput,
} from './layers';
export { qualityOf, QUALITY_SCORES, type Quality, type QualityInput } from './quality';
