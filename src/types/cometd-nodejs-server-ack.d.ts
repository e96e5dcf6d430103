// The package ships `ack-extension.d.ts` but no `exports` map entry typed for NodeNext's
// `.js` specifier; this declares the CommonJS module as it is.
declare module 'cometd-nodejs-server/ack-extension.js' {
  const ack: { AcknowledgedMessagesExtension: new () => object };
  export default ack;
}
