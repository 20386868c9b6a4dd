export { dailyPipeline } from './daily-pipeline';
export { sparkJob } from './spark-job';
