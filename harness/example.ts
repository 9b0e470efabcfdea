/**
 * The example `npm start` builds by default and the integration tests upload: its folder and template file. A
 * module of its own, so the CLI can name it without loading the harness before it needs it.
 */
import { join } from 'node:path';

export const EXAMPLE_TEMPLATE_DIR = join(import.meta.dirname, '..', 'examples', 'amazon-ebs-basic');
export const EXAMPLE_TEMPLATE_FILE = 'amazon-ebs-basic.pkr.hcl';

/** The docker reference template as a bundle folder (`npm start` uploads it as a .tar.gz after the AMI example). */
export const DOCKER_EXAMPLE_DIR = join(import.meta.dirname, '..', 'examples', 'docker-python-app');

/** Agent builds run by a local kiln-agent: null and file builders (`npm start` uploads it after the docker one). */
export const AGENT_EXAMPLE_DIR = join(import.meta.dirname, '..', 'examples', 'agent-builds');
export const AGENT_EXAMPLE_FILE = 'agent-builds.json';

/** The vmware reference template, unchanged (a copy of ../shared/examples, checked equal by the CLI tests). */
export const VMWARE_REFERENCE = join(import.meta.dirname, '..', 'examples', 'vmware-ubuntu-apache.json');
