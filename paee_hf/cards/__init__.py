"""Model cards: card data, the Jinja template, and the cards of the paper setups."""
