import { builder } from './builder.js';
import './events.js';
import './sessions.js';
import './requests.js';
import './publish.js';
import './progress.js';

export const schema = builder.toSchema({ sortSchema: false });
