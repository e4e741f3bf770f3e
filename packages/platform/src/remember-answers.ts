/**
 * `fn` with its answer remembered per key. Bounded (`max` keys, then new keys are answered without
 * being remembered), since keys can come from what clients send.
 */
export function rememberAnswers<T>(fn: (key: string) => T, max = 1_000): (key: string) => T {
  const answers = new Map<string, T>();
  return (key) => {
    if (answers.has(key)) return answers.get(key) as T;
    const answer = fn(key);
    if (answers.size < max) answers.set(key, answer);
    return answer;
  };
}
