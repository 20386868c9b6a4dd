/**
 * The failure converter of an encrypted deployment, loaded by path (`failureConverterPath`) because
 * it also runs inside the workflow sandbox: failure messages and stack traces are moved into an
 * encoded payload, which the payload codec then encrypts like any other. Histories show
 * "Encoded failure" instead of an error text that may quote customer data.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
