{{ dora_metrics('week') }}
