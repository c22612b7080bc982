from bot.app.cli import run

run()
