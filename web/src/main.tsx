import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App, type Page } from './App.js';
import './styles.css';

const page: Page = location.pathname.replace(/\/+$/, '') === '/dashboard' ? 'dashboard' : 'agent';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App page={page} />
  </StrictMode>,
);
