// Every page template, in one module that the routes load on the first page (lazy-pages.ts).
export { errorPage } from '../layout.js';
export { confirmPage } from './confirm.js';
export { deliveriesPage, deliveryPage } from './deliveries.js';
export { jobPage, PAGE_LINES } from './job.js';
export { loginPage } from './login.js';
export { overviewPage } from './overview.js';
export { repoPage } from './repo.js';
export { simulatePage } from './simulate.js';
