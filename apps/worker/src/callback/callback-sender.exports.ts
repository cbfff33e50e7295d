/** What tests reach into: the HTTP client and resolver of the callback proxy. */
export { CallbackHttpClient } from './callback-http.client';
export { CallbackDns } from './callback-sender';
