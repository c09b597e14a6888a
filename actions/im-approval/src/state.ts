/** Saved by the main step, read by the post step (the runner passes them as STATE_* variables). */
export const STATE_IS_POST = 'isPost';
export const STATE_APPROVAL_ID = 'approval-id';
