// Signup answers the same for new and existing addresses: the page says to
// check the mailbox either way.
export const en = {
  'signup.checkMail':
    'Almost there: we sent a mail to {email}. Open the link in it to confirm your address, then log in. If you already have an account with this address, the mail tells you how to get back in.',
} as const;

export const ja: Record<keyof typeof en, string> = {
  'signup.checkMail':
    '{email} にメールを送りました。メールのリンクを開いてアドレスを確認してから、ログインしてください。このアドレスのアカウントがすでにある場合は、ログインの方法をメールでお知らせしています。',
};
