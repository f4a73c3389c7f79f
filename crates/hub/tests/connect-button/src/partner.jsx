// A partner's page with the official connect button, `local` environment (it opens
// http://localhost:8082/dashboard/app/{partner_id} in a popup). The same page is the partner's
// Redirect URL: in the popup the button posts the result to the opener and closes it; here it
// reloads with the result and calls `callback`, which writes it into #result for the test.
import React from 'react';
import { createRoot } from 'react-dom/client';
import { ConnectButton } from '360dialog-connect-button';

const root = document.getElementById('root');
const partnerId = root.getAttribute('data-partner-id');
const state = root.getAttribute('data-state');
// One object for the page's life: the button rebuilds itself whenever this prop changes.
const queryParameters = state ? { state } : undefined;

function App() {
  const [result, setResult] = React.useState(null);
  const callback = React.useCallback((value) => setResult(value), []);
  return (
    <div>
      <h1>Example partner</h1>
      <ConnectButton
        id="connect"
        partnerId={partnerId}
        env="local"
        callback={callback}
        queryParameters={queryParameters}
        label="Connect WhatsApp"
      />
      <pre id="result">{result ? JSON.stringify(result) : ''}</pre>
    </div>
  );
}

createRoot(root).render(<App />);
