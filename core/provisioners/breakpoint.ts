/** breakpoint: pauses the build until the user continues (`kiln` resumes it); `disable` turns it off. */
import { defineComponent } from '../builders/common/define.ts';
import { bool, str } from '../builders/common/fields.ts';

export const breakpoint = defineComponent('provisioner', {
  type: 'breakpoint',
  shape: { disable: bool(), note: str() },
});
