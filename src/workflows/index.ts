export { dailyPipeline } from './daily-pipeline';
export { sparkJob } from './spark-job';
export { sparkJanitor } from './janitor';
