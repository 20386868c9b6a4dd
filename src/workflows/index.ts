export { dailyPipeline } from './daily-pipeline';
export { sparkJob } from './spark-job';
export { sparkJanitor } from './janitor';
export { nightlyTrigger } from './nightly-trigger';
