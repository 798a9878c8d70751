// The example client of document 003 ("Nova Streaming", section
// "JavaScript (Vanilla)"), copied verbatim: only the URL in connect() is
// changed (to the test server's origin, NOVA_ORIGIN); streamId and token are
// defined by the page that loads it. tests/http/nova_browser_test.ts runs it
// in Chromium and checks that this copy still matches the document.
class NovaStreamViewer {
  constructor(streamId, token) {
    this.streamId = streamId;
    this.token = token;
    this.messageHandlers = {};
  }

  connect() {
    const url = `${NOVA_ORIGIN}/api/v1/streams/${this.streamId}/ws`;
    const fullUrl = new URL(url);
    fullUrl.searchParams.append('token', this.token);

    this.ws = new WebSocket(fullUrl.toString());

    this.ws.addEventListener('open', () => this.onOpen());
    this.ws.addEventListener('message', (e) => this.onMessage(e));
    this.ws.addEventListener('error', (e) => this.onError(e));
    this.ws.addEventListener('close', () => this.onClose());
  }

  onOpen() {
    console.log('Connected to stream');
    this.setupPingInterval();
  }

  onMessage(event) {
    const message = JSON.parse(event.data);
    const handler = this.messageHandlers[message.event];
    if (handler) {
      handler(message.data);
    }
  }

  onError(error) {
    console.error('WebSocket error:', error);
  }

  onClose() {
    console.log('Disconnected from stream');
    clearInterval(this.pingInterval);
  }

  setupPingInterval() {
    this.pingInterval = setInterval(() => {
      if (this.ws.readyState === WebSocket.OPEN) {
        this.ws.send(JSON.stringify({
          event: 'pong',
          data: { timestamp: new Date().toISOString() }
        }));
      }
    }, 30000);
  }

  on(event, callback) {
    this.messageHandlers[event] = callback;
  }

  send(message) {
    if (this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
    }
  }

  disconnect() {
    if (this.ws) {
      this.ws.close();
    }
  }
}

// Usage
const viewer = new NovaStreamViewer(streamId, token);
viewer.on('connection_established', (data) => {
  console.log('Connected as viewer:', data.viewer_id);
});
viewer.on('viewer_count_changed', (data) => {
  console.log('Viewers:', data.viewer_count);
});
viewer.on('stream_ended', (data) => {
  console.log('Stream ended after', data.duration_seconds, 'seconds');
});
viewer.connect();
