import './app.css';
import { mount } from 'svelte';
import App from './App.svelte';
import { boot } from './lib/session.svelte';
import { i18n } from './lib/i18n.svelte';

document.documentElement.lang = i18n.lang;
boot();
mount(App, { target: document.getElementById('app')! });
