/** breakpoint: pauses the build until the user continues (`kiln` resumes it); `disable` turns it off. */
import { defineComponent } from '../schema/define.ts';
import { bool, str } from '../schema/fields.ts';

export const breakpoint = defineComponent('provisioner', {
  type: 'breakpoint',
  shape: { disable: bool(), note: str() },
});
