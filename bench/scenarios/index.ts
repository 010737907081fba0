// Every scenario, in the order they run; `--only` takes their names (bench/README.md).
import type { Scenario } from '../sessions';
import { bulk } from './bulk';
import { connect, firstScreen } from './connect';
import { echo } from './echo';
import { files } from './files';
import { ctrlcFlood, killFlood } from './flood';
import { poorConnect } from './poor-connect';
import { poorLink } from './poor-link';

export const scenarios: Scenario[] = [echo, bulk, connect, firstScreen, killFlood, ctrlcFlood, poorLink, poorConnect, files];
